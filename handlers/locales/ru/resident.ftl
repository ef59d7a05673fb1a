# The residents' guided dialogue. String arguments are HTML-escaped by handlers.texts;
# $summary, $lines and $history are markup we build from escaped pieces.

## Greeting and consent (152-ФЗ)

resident-greeting =
    Здравствуйте! Это бот для обращений жителей в органы власти региона.
    Здесь можно сообщить о проблеме — яме на дороге, неработающем освещении, переполненной площадке для мусора — и следить за тем, как её решают. Обращение получит ведомство, которое за это отвечает.
resident-consent =
    Чтобы принять обращение, нам нужно ваше согласие на обработку персональных данных в соответствии с Федеральным законом от 27.07.2006 № 152-ФЗ «О персональных данных».
    Мы используем ваше имя, а также телефон, адрес и фотографии, если вы их укажете, только для рассмотрения ваших обращений. Удалить свои данные можно в любой момент командой /forget.
resident-btn-agree = Согласен
resident-btn-disagree = Не согласен
resident-consent-thanks = Спасибо! Согласие получено.
resident-consent-refused =
    Понимаем. Без согласия на обработку персональных данных мы не можем принять обращение: по закону ведомству нужно знать, от кого оно и как ответить.
    Мы ничего о вас не сохранили. Если передумаете, нажмите «Согласен» или отправьте /start.
resident-consent-needed = Прежде чем продолжить, пожалуйста, ответьте на вопрос о согласии.
resident-consent-held = Ваше сообщение сохранили: с ним начнётся обращение. Пожалуйста, ответьте на вопрос о согласии. Если не согласитесь или не ответите в течение суток, мы сообщение удалим.

## What the resident sent first, kept in the appeal

resident-kept = Из вашего сообщения взяли: { $kept }. Осталось ответить на несколько вопросов.
resident-kept-part-description = описание
resident-kept-part-place = место
resident-kept-part-photos = фото ({ $count })
resident-kept-description = Записали это как описание проблемы. Поправить его можно при проверке обращения.
resident-kept-appended = Добавили это к описанию проблемы. Поправить его можно при проверке обращения.
resident-kept-too-long = Это не поместилось в описание: вместе с ним оно длиннее { $max } символов. Поправить описание можно при проверке обращения.
resident-kept-photos = Фото сохранили в обращении, всего { $count }.
resident-description-photo-kept = Фото сохранили, всего { $count }. Теперь опишите проблему текстом.

## Common buttons and notices

resident-btn-back = Назад
resident-btn-cancel = Отмена
resident-btn-skip = Пропустить
resident-btn-done = Готово
resident-btn-more = Ещё ▶
resident-btn-prev = ◀
resident-btn-new = Подать обращение
resident-btn-my = Мои обращения
resident-btn-resume = ↩ К обращению
resident-stale = Эта кнопка устарела. Вот актуальный вопрос.
resident-blocked = Приём обращений от вас приостановлен. Если вы считаете, что это ошибка, обратитесь в региональный центр управления.
resident-ok = Хорошо.
resident-unknown-command = Такой команды нет. Посмотреть, что умеет бот, можно командой /help.
resident-help =
    <b>Что умеет бот</b>
    /new — подать новое обращение
    /my — мои обращения и их статус
    /cancel — отменить заполнение обращения
    /mydata — какие мои данные хранятся и сколько
    /forget — удалить мои персональные данные
    /help — эта подсказка
    На каждом шаге можно вернуться кнопкой «Назад» или отменить обращение кнопкой «Отмена».
resident-idle = Чем можем помочь? Подайте новое обращение или посмотрите, что с уже поданными.
resident-cancelled = Заполнение обращения отменено. Если захотите вернуться, мы всегда здесь.
resident-nothing-to-cancel = Сейчас нечего отменять.
resident-rate-hour = Вы уже подали { $limit } { $limit ->
        [one] обращение
        [few] обращения
        *[other] обращений
    } за последний час. Пожалуйста, попробуйте немного позже — так мы защищаем сервис от перегрузки.
resident-rate-day = Вы уже подали { $limit } { $limit ->
        [one] обращение
        [few] обращения
        *[other] обращений
    } за сутки. Пожалуйста, попробуйте завтра — так мы защищаем сервис от перегрузки.
resident-rate-kept = Черновик сохранён: отправить его можно будет позже.

## Abandoned draft

resident-resume = У вас есть незаконченное обращение. Продолжить его или начать заново?
resident-btn-continue = Продолжить
resident-btn-restart = Начать заново

## Steps

resident-step = <b>Шаг { $n } из { $m }.</b>
resident-ask-topic = Выберите тему обращения.
resident-ask-topic-suggested = Похоже, тема обращения — «{ $topic }». Если верно, нажмите «Да, верно», если нет — «Другая тема».
resident-btn-topic-yes = Да, верно
resident-btn-topic-other = Другая тема
resident-ask-municipality = Выберите муниципалитет, к которому относится проблема.
resident-ask-municipality-page = Выберите муниципалитет, к которому относится проблема (страница { $page } из { $pages }).
resident-ask-description =
    Опишите проблему своими словами: что случилось и где. От { $min } до { $max } символов.
resident-description-too-short = Описание слишком короткое: { $length } { $length ->
        [one] символ
        [few] символа
        *[other] символов
    }, а нужно не меньше { $min }. Пожалуйста, расскажите чуть подробнее.
resident-description-too-long = Описание слишком длинное: { $length } символов при допустимых { $max }. Пожалуйста, сократите его.
resident-description-empty = Похоже, сообщение пустое. Пожалуйста, опишите проблему текстом.
resident-ask-place =
    Где это находится? Отправьте геолокацию кнопкой ниже или напишите адрес, например: «ул. Советская, 12». Если место указывать не нужно, нажмите «Пропустить».
resident-ask-place-typed =
    Где это находится? Напишите адрес, например: «ул. Советская, 12». Если место указывать не нужно, нажмите «Пропустить».
resident-btn-location = 📍 Отправить геолокацию
resident-address-too-short = Адрес слишком короткий. Пожалуйста, напишите его подробнее (от 3 символов) или отправьте геолокацию.
resident-address-too-long = Адрес слишком длинный: не больше 300 символов. Пожалуйста, сократите его.
resident-place-saved = Место записано.
resident-place-repeated-description = Описание мы уже получили, спасибо. Теперь укажите, где это находится.
resident-place-skipped = Хорошо, без указания места.

## The same problem nearby (never another resident's words, name or photos)

resident-ask-nearby =
    { $count ->
        [one] Рядом уже есть открытое обращение на эту тему. Если это та же проблема, присоединитесь к нему: вы будете получать те же уведомления и ответ ведомства, а ведомство увидит, что это важно не одному человеку.
       *[other] Рядом уже есть открытые обращения на эту тему. Если среди них ваша проблема, присоединитесь к нему: вы будете получать те же уведомления и ответ ведомства, а ведомство увидит, что это важно не одному человеку.
    }
resident-nearby-line = • № { $number } — { $topic }, { $where }, от { $date }: { $status }
resident-nearby-distance = в { $metres } м от вас
resident-nearby-same-address = по тому же адресу ({ $address })
resident-btn-nearby-same = Да, это оно: № { $number }
resident-btn-nearby-other = Нет, у меня другое
resident-nearby-joined =
    Вы присоединились к обращению <b>№ { $number }</b>. Уведомления о нём и ответ ведомства придут сюда, в этот чат. Обращения, за которыми вы следите, — в /my.
resident-nearby-gone = Обращение № { $number } уже закрыто, присоединиться к нему нельзя.
resident-ask-photos =
    Если есть фотографии проблемы, пришлите их (не больше { $limit }). Когда закончите, нажмите «Готово». Без фото — «Пропустить».
resident-photo-received = Фото получено: { $count } из { $limit }.
resident-photo-duplicate = Это фото уже добавлено.
resident-photo-limit = К обращению можно приложить не больше { $limit } фото. Остальные, к сожалению, не сохранены.
resident-ask-phone-button =
    Оставьте номер телефона, если ведомству может понадобиться связаться с вами: нажмите «Поделиться номером» или напишите номер. Можно пропустить.
resident-ask-phone-typed =
    Оставьте номер телефона, мобильный или городской, если ведомству может понадобиться связаться с вами, например: +7 900 123-45-67 или 8 (4752) 72-00-00. Можно пропустить.
resident-btn-share-phone = Поделиться номером
resident-phone-invalid = Не удалось распознать номер. Пожалуйста, напишите номер целиком, с кодом города или оператора, например: +7 900 123-45-67 или 8 (4752) 72-00-00, добавочный — через «доб.». Если не хотите оставлять телефон, нажмите «Пропустить».
resident-phone-foreign = Пожалуйста, поделитесь своим собственным номером: чужие контакты мы не принимаем.
resident-phone-saved = Телефон записан.
resident-phone-skipped = Хорошо, без телефона.

## What each step accepts

resident-accepts-topic = Сейчас нужно выбрать тему кнопкой под сообщением.
resident-accepts-municipality = Сейчас нужно выбрать муниципалитет кнопкой под сообщением.
resident-accepts-description = На этом шаге нужно описание текстом. Фото можно будет приложить чуть позже.
resident-accepts-place = На этом шаге нужна геолокация или адрес текстом.
resident-accepts-photos = На этом шаге принимаются только фотографии. Видео, голосовые сообщения, стикеры и файлы приложить нельзя.
resident-photos-text-ignored =
    Здесь нужны фотографии, текст на этом шаге не сохраняется: описание можно будет поправить при проверке обращения. { $has_photos ->
        [yes] Если все фото отправлены, нажмите «Готово».
       *[no] Если фото нет, нажмите «Пропустить».
    }
resident-accepts-phone = На этом шаге нужен номер телефона.
resident-accepts-review = Проверьте обращение и выберите действие кнопкой под сообщением.
resident-accepts-buttons = Пожалуйста, выберите вариант кнопкой под сообщением.
resident-accepts-idle = Я понимаю текст и кнопки. Чтобы подать обращение, нажмите «Подать обращение».

## Review and changes

resident-review =
    <b>Проверьте обращение</b>
    { $summary }
    Всё верно? Нажмите «Отправить».
resident-review-topic = Тема: { $topic }
resident-review-municipality = Муниципалитет: { $municipality }
resident-review-description = Описание: { $description }
resident-review-address = Адрес: { $address }
resident-review-location = Место: геолокация ({ $latitude }, { $longitude })
resident-review-no-place = Место: не указано
resident-review-photos = Фото: { $count ->
        [0] нет
        *[other] { $count }
    }
resident-review-phone = Телефон: { $phone }
resident-review-no-phone = Телефон: не указан
resident-btn-send = Отправить
resident-btn-edit = Изменить
resident-btn-abort = Отменить
resident-ask-edit = Что хотите изменить?
resident-edit-topic = Тему
resident-edit-municipality = Муниципалитет
resident-edit-description = Описание
resident-edit-place = Место
resident-edit-photos = Фото
resident-edit-phone = Телефон
resident-edit-photos-kept = Сейчас { $count ->
        [one] прикреплена { $count } фотография
        [few] прикреплены { $count } фотографии
        *[other] прикреплено { $count } фотографий
    }. Пришлите новые — они заменят прежние; «Назад» оставит всё как было.
resident-back-at-first = Это первый шаг: назад идти некуда. Черновик сохранён; чтобы отменить обращение целиком, нажмите «Отмена».

## Submitted

resident-submitted =
    Спасибо! Ваше обращение <b>№ { $number }</b> принято и передаётся в ответственное ведомство.
    Ведомство сообщит, что взяло его в работу, до { $first }, а ответит по существу до { $answer }. Ответ придёт сюда, в этот чат. Следить за статусом можно командой /my.

## My appeals

resident-my-empty = У вас пока нет обращений.
resident-my-title = <b>Ваши обращения</b> (всего { $total }, страница { $page } из { $pages }):
resident-my-line = № { $number } от { $date } — { $topic }: { $status }
resident-my-button = № { $number } · { $status }
resident-details =
    <b>Обращение № { $number }</b>
    Тема: { $topic }
    Муниципалитет: { $municipality }
    Подано: { $date }
    Статус: <b>{ $status }</b>
    Описание: { $description }
resident-details-address = Адрес: { $address }
resident-details-location = Место: геолокация
resident-details-history = <b>История</b>
resident-history-line = { $date } — { $what }
resident-details-answer-due = Ответ ожидается до { $deadline }
resident-history-centre = центр управления регионом
resident-history-created = вы подали обращение
resident-history-passed = передано в ведомство: { $agency }
resident-history-unrouted = передано в центр управления регионом, он определит ведомство
resident-history-taken = ведомство взяло обращение в работу
resident-history-redirected = передано в другое ведомство: { $agency }
resident-history-answer = ответ ведомства с фотографиями ({ $agency })
resident-history-answer-text = <b>ответ ведомства</b> ({ $agency }):
    { $text }
resident-history-solved = ведомство сообщило, что проблема решена
resident-history-solved-text = <b>проблема решена</b> ({ $agency }):
    { $text }
resident-history-rejected-text = <b>отказ</b> ({ $agency }): { $text }
resident-history-extended-text = срок ответа продлён. Причина: { $text }
resident-history-reopened-text = вы вернули обращение на доработку: { $text }
resident-history-details = вы дополнили обращение фотографиями
resident-history-details-text = вы дополнили обращение: { $text }
resident-history-closed = вы подтвердили, что проблема решена
resident-history-contested-text = вы оспорили отказ: { $text }
resident-history-upheld = администраторы оставили отказ в силе
resident-history-returned = после вашего возражения обращение передано в ведомство: { $agency }
resident-history-rating-text = ваша оценка: { $text }
resident-btn-add = Дополнить
resident-btn-to-list = ◀ К списку

## Forget me

resident-forget-confirm =
    Удалить ваши персональные данные? Мы сотрём имя, телефон, адреса, геолокации и фотографии ваших обращений, а сами обращения останутся обезличенными для статистики. Связать их с вами будет уже нельзя, отменить удаление тоже.
resident-btn-forget-yes = Да, удалить
resident-btn-forget-no = Нет, оставить
resident-forget-done = Готово: ваши персональные данные удалены. Если захотите снова обратиться, отправьте /start.
resident-forget-kept = Хорошо, ничего не удаляем.

## The terminal console (bot/console.py)

resident-console-hello = Консоль жителя. Введите текст, номер кнопки, /location ШИРОТА ДОЛГОТА, /photo ПУТЬ или /quit.
resident-console-ask-location = Введите координаты через запятую, например: 52.72, 41.45
resident-console-ask-phone = Введите номер телефона:
resident-console-bad-location = Не удалось разобрать координаты. Пример: /location 52.72 41.45
resident-console-no-file = Файл не найден: { $path }
resident-console-photo = [фото: { $count }]
resident-console-location = [геолокация: { $latitude }, { $longitude }]
resident-console-bye = До свидания!
