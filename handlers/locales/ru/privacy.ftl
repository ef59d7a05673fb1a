# Personal data: /mydata (152-ФЗ ст. 14) and what agency chats are told after /forget.

## /mydata

privacy-platform-telegram = Telegram
privacy-platform-vk = ВКонтакте
privacy-platform-console = консоль
privacy-mydata-person =
    <b>Какие ваши данные мы храним</b>
    { $platform }, ваш id: { $id }
    Имя: { $name }
    Телефон: { $phone }
    Согласие на обработку персональных данных: { $consent }
privacy-mydata-no-consent = не дано
privacy-mydata-draft = Незаконченное обращение: черновик хранится, пока вы его не отправите или не отмените.
privacy-mydata-no-appeals = Обращений нет.
privacy-mydata-appeals = <b>Ваши обращения ({ $count })</b>
privacy-mydata-appeal =
    <b>№ { $number }</b> от { $date }: { $topic }, { $municipality } — { $status }
    Описание: { $description }
privacy-mydata-address = Адрес: { $address }
privacy-mydata-location = Геолокация: { $lat }, { $lon }
privacy-mydata-phone = Телефон: { $phone }
privacy-mydata-photos = Ваших фотографий: { $mine }, фотографий ведомства: { $staff }, записей в истории: { $events }
privacy-mydata-kept =
    <b>Сколько мы это храним</b>
    • Имя, телефон, адреса, геолокации и фотографии — пока вы не удалите их командой /forget. После удаления обращения остаются только обезличенными, для статистики.
    • Ваши сообщения боту и ответы бота — { $days } { $days ->
        [one] день
        [few] дня
       *[other] дней
    }, затем удаляются; сообщения, которые не удалось обработать или доставить, — { $failed_days } { $failed_days ->
        [one] день
        [few] дня
       *[other] дней
    }.
    • Если вы не дали согласия, мы не храним ваши сообщения: только то, что вы прислали перед вопросом о согласии, и не дольше суток.
    Удалить свои данные: /forget.

## After /forget, in agency chats

privacy-card-withdrawn = 🔒 Житель отозвал согласие на обработку персональных данных: телефон, адрес, геолокация и фотографии удалены.
privacy-staff-withdrawn = 🔒 Житель, подавший обращение № { $number }, отозвал согласие на обработку персональных данных. Телефон, адрес и фотографии удалены; ответить ему больше нельзя. Пожалуйста, удалите и свои копии этих данных.
