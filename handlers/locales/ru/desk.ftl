# The agency desk: cards, staff actions, resident notices, follow-ups, deadlines.
# String arguments are HTML-escaped by handlers.texts; $link and $history are built markup.

## The card in an agency chat

desk-card-title = <b>Обращение № { $number }</b>
desk-card-topic = Тема: { $topic }
desk-card-municipality = Муниципалитет: { $municipality }
desk-card-received = Поступило: { $received }
desk-card-agency = Ведомство: { $agency }
desk-card-unrouted = Ведомство: <b>не определено</b> — перенаправьте обращение
desk-card-status = Статус: <b>{ $status }</b>
desk-card-assignee = Исполнитель: { $name }
desk-card-deadline = Срок первого ответа: { $deadline }
desk-card-answer-deadline = Срок ответа: { $deadline }
desk-card-answer-extended = Срок ответа (продлён): { $deadline }
desk-card-description = <b>Описание:</b>
    { $description }
desk-card-address = Адрес: { $address }
desk-card-location = Место: { $link }
desk-card-map-link = <a href="{ $url }">открыть на карте</a>
desk-card-phone = Телефон: { $phone }
desk-card-reopened = Обращение возвращено жителем на доработку: { $count } раз(а)
desk-card-redirected = <b>Перенаправлено в { $agency }</b>
desk-card-returned = <b>Отказ оспорен, обращение возвращено в { $agency }</b>
desk-card-location-pin = Место по обращению № { $number }
desk-card-photos = Фотографии к обращению № { $number }

desk-button-take = Взять в работу
desk-button-answer = Ответить
desk-button-redirect = Перенаправить
desk-button-reject = Отклонить
desk-button-solve = Решено
desk-button-assign = Назначить
desk-button-note = Заметка
desk-button-extend = Продлить срок ответа
desk-button-uphold = Оставить отказ
desk-button-return = Вернуть в ведомство

## Staff actions

desk-prompt-answer = Ответ жителю по обращению № { $number }: напишите его ответом на это сообщение (можно приложить фото, документ, видео или голосовое сообщение).
desk-prompt-extend = Причина продления срока ответа по обращению № { $number }: напишите её ответом на это сообщение. Житель получит её.
desk-prompt-reject = Отказ по обращению № { $number }, причина: «{ $reason }». Объясните жителю, почему: напишите ответом на это сообщение. Без объяснения обращение не отклоняется.
desk-prompt-solve = Решение по обращению № { $number }: напишите жителю, что сделано, ответом на это сообщение (можно с фотографиями). Без ответа обращение не считается решённым.
desk-reject-choose = Причина отказа по обращению № { $number }:
desk-rejection-text = { $reason }. { $text }
desk-return-choose = В какое ведомство вернуть обращение № { $number }?
desk-redirect-choose = Куда перенаправить обращение № { $number }?
desk-redirect-none = Перенаправить некуда: других ведомств нет.

desk-done-take = Обращение № { $number } взято в работу ({ $actor }).
desk-done-answer = Ответ по обращению № { $number } отправлен жителю.
desk-done-reject = Обращение № { $number } отклонено ({ $actor }).
desk-done-solve = Обращение № { $number } отмечено как решённое ({ $actor }).
desk-done-extend = Срок ответа по обращению № { $number } продлён до { $deadline }. Житель получил причину.
desk-done-uphold = Отказ по обращению № { $number } оставлен в силе ({ $actor }). Житель уведомлён.
desk-done-return = Обращение № { $number } возвращено в { $agency }.
desk-done-redirect = Обращение № { $number } перенаправлено в { $agency }.

desk-toast-take = Взято в работу
desk-toast-solve = Отмечено как решённое
desk-toast-redirect = Перенаправлено
desk-toast-prompt = Напишите ответом на сообщение бота
desk-toast-done = Готово

## Refusals

desk-refuse-not-yours = Это обращение не относится к вашему ведомству.
desk-refuse-unknown-appeal = Обращение не найдено.
desk-refuse-bad-button = Эта кнопка больше не действует.
desk-refuse-transition = Нельзя: обращение № { $number } сейчас в статусе «{ $status }».
desk-refuse-not-appeal = Это сообщение не относится ни к одному обращению. Чтобы ответить жителю, ответьте на карточку обращения.
desk-refuse-empty-answer = Пустой ответ не отправлен: напишите текст ответом на карточку.
desk-refuse-empty-reason = Без объяснения обращение не отклоняется: напишите его текстом.
desk-refuse-bad-reason = Такой причины отказа больше нет: нажмите «Отклонить» ещё раз.
desk-refuse-resident-gone = Житель удалил свои данные из бота: ответ доставить некому.
desk-refuse-media = Ответ не отправлен: житель не сможет получить { $kinds } из этого мессенджера. Пришлите это файлом-документом или ссылкой.
media-kind-photo = фото
media-kind-video = видео
media-kind-voice = голосовое сообщение
media-kind-audio = аудиозапись
media-kind-sticker = стикер
media-kind-document = документ
media-kind-animation = анимацию
media-kind-video_note = видеосообщение
media-kind-other = вложение этого типа
desk-refuse-extended = Срок ответа по обращению № { $number } уже продлевали: продлить можно один раз.
desk-refuse-empty-extension = Без причины срок не продлевается: напишите причину текстом.
desk-refuse-same-agency = Обращение уже в этом ведомстве.
desk-refuse-admin-only = Эта команда доступна только в чате администраторов.
desk-refuse-agency-only = Эта команда доступна только в чате ведомства.
desk-unknown-chat = Этот чат не подключён к боту обращений. Чтобы подключить его, передайте администратору идентификатор чата: <code>{ $chat }</code>
desk-unknown-command = Неизвестная команда. Список команд: /help

## Staff commands

desk-help =
    <b>Команды бота обращений</b>
    Ответьте на карточку обращения — ответ уйдёт жителю (можно с фото, документом, видео или голосовым).
    Ответ, начатый с «!», — внутренняя заметка: она останется в истории, житель её не увидит.
    Кнопки под карточкой: взять в работу, ответить, перенаправить, отклонить (с причиной), решено, назначить сотрудника, заметка.
    /open — открытые обращения ведомства, сначала старые
    /open mine — открытые обращения, назначенные вам
    /appeal N — обращение и его история (N: 2026-000123 или 123)
    /find запрос — поиск по номеру, телефону или словам из адреса и описания
desk-help-admin =
    <b>Команды чата администраторов</b>
    /open — обращения без ведомства
    /open mine — обращения, назначенные вам
    /appeal N — любое обращение и его история
    /find запрос — поиск по всем обращениям: номер, телефон, слова из адреса или описания
    /overdue — просроченные обращения по ведомствам
    /block N — заблокировать жителя, подавшего обращение N
    /unblock N — разблокировать его
    /digest — дайджест текущей недели (предпросмотр, в канал не публикуется)
    /stats [период] — те же цифры за неделю 2026-W47 или за даты 2026-11-01 2026-11-15
desk-open-title = <b>Открытые обращения: { $count }</b>
desk-open-empty = Открытых обращений нет.
desk-open-line = № { $number } · { $topic } · { $status } · { $age }
desk-appeal-usage = Укажите номер: /appeal 2026-000123 или /appeal 123
desk-history-title = <b>История:</b>
desk-history-line = { $at } · { $what }{ $who }{ $comment }
desk-history-who = {" "}· { $name }
desk-history-comment = : { $text }
desk-overdue-title = <b>Просроченные обращения: { $count }</b>
desk-overdue-empty = Просроченных обращений нет.
desk-overdue-agency = <b>{ $agency }</b>
desk-overdue-line = № { $number } · { $topic } · { $what } просрочен на { $late }
desk-overdue-first = первый ответ
desk-overdue-answer = ответ
desk-block-usage = Укажите номер обращения: /block 2026-000123
desk-unblock-usage = Укажите номер обращения: /unblock 2026-000123
desk-blocked = Житель, подавший обращение № { $number }, заблокирован.
desk-unblocked = Житель, подавший обращение № { $number }, разблокирован.
desk-block-no-resident = У обращения № { $number } нет жителя (данные удалены).

desk-event-created = обращение подано жителем
desk-event-passed = передано в ведомство { $agency }
desk-event-unrouted = передано администраторам (ведомство не найдено)
desk-event-taken = взято в работу
desk-event-answer = ответ жителю
desk-event-rejected = отклонено
desk-event-solved = решено
desk-event-redirected = перенаправлено в { $agency }
desk-event-closed = житель подтвердил решение
desk-event-reopened = житель вернул на доработку
desk-event-rating = оценка { $rating }
desk-event-details = житель дополнил обращение
desk-event-reminder_half = напоминание: прошла половина срока
desk-event-reminder_due = напоминание: срок истёк
desk-event-escalated = передано администраторам как просроченное
desk-event-answer_reminder_half = напоминание: прошла половина срока ответа
desk-event-answer_reminder_due = напоминание: срок ответа истёк
desk-event-answer_escalated = передано администраторам: просрочен ответ
desk-event-extended = срок ответа продлён
desk-event-contested = житель оспорил отказ
desk-event-upheld = отказ оставлен в силе
desk-event-returned = после возражения возвращено в { $agency }
desk-event-delivery_failed = карточка не доставлена в чат ведомства
desk-event-assigned = назначено
desk-event-unassigned = назначение снято
desk-event-other = { $kind }
desk-unrouted-agency = без ведомства

## Resident notices (private chat)

desk-notice-taken = Ваше обращение № { $number } взято в работу: { $agency }.
desk-notice-answer = <b>Ответ по обращению № { $number }</b> ({ $agency }):
    { $text }
desk-notice-rejected =
    Ваше обращение № { $number } отклонено.
    Причина: { $reason }. { $text }
desk-notice-solved = По вашему обращению № { $number } ведомство сообщает: проблема решена (ответ выше).
desk-notice-solved-answer = <b>Обращение № { $number } решено</b> ({ $agency }):
    { $text }
desk-notice-upheld = Администраторы рассмотрели ваше возражение по обращению № { $number } и оставили отказ в силе.
desk-notice-returned = После вашего возражения обращение № { $number } возвращено в ведомство: { $agency }. Ответ — до { $deadline }.
desk-notice-extended = Срок ответа по вашему обращению № { $number } продлён до { $deadline }. Причина: { $reason }
desk-notice-redirected = Ваше обращение № { $number } передано в другое ведомство: { $agency }.

## Follow-ups with the resident

followup-ask = Проблема по обращению № { $number } решена?
followup-ask-rate = Оцените, пожалуйста, ответ по обращению № { $number } от 1 до 5.
followup-button-yes = Да
followup-button-no = Нет
followup-closed = Спасибо! Обращение № { $number } закрыто.
followup-ask-comment = Расскажите, что не так с решением по обращению № { $number }: ваш комментарий вернётся в ведомство.
followup-comment-empty = Напишите комментарий текстом.
followup-reopened = Обращение № { $number } возвращено в ведомство с вашим комментарием. Мы сообщим, когда будет ответ.
followup-rated = Спасибо за оценку { $rating }!
followup-already-rated = Вы уже оценили ответ по обращению № { $number }.
followup-cannot-rate = Оценить можно только обращение с ответом или отказом.
followup-not-yours = Это обращение вам не принадлежит.
followup-not-now = Сейчас это действие недоступно: обращение № { $number } в статусе «{ $status }».
followup-bad-button = Эта кнопка больше не действует.
followup-button-contest = Оспорить отказ
followup-may-contest = Не согласны? Отказ можно один раз оспорить: нажмите «Оспорить отказ».
followup-ask-contest = Напишите, почему вы не согласны с отказом по обращению № { $number }: возражение рассмотрят администраторы.
followup-contest-sent = Ваше возражение по обращению № { $number } передано администраторам. Мы сообщим их решение.
followup-contested-once = Отказ по обращению № { $number } уже оспаривался: оспорить можно один раз.
followup-ask-details = Напишите, что добавить к обращению № { $number }: текст и (или) фотографии.
followup-details-sent = Дополнение к обращению № { $number } передано в ведомство.
followup-reply-not-now = Ответ на это сообщение не передан: обращение № { $number } в статусе «{ $status }», дополнить его уже нельзя.
followup-details-empty = Пришлите текст или фотографии.

desk-staff-reopened =
    <b>Обращение № { $number } возвращено жителем на доработку.</b>
    Комментарий жителя: { $comment }
    Ответьте на это сообщение, чтобы написать жителю.
desk-staff-extended =
    <b>Срок ответа по обращению № { $number } продлён до { $deadline }.</b>
    Причина: { $reason }
desk-staff-details =
    <b>Житель дополнил обращение № { $number }:</b>
    { $text }
    Ответьте на это сообщение, чтобы написать жителю.

## Contested rejections (admin chat)

desk-contest =
    <b>Житель оспаривает отказ по обращению № { $number }</b> ({ $topic }, { $agency }).
    Причина отказа: { $reason }
    Возражение жителя: { $comment }

## Deadlines

desk-remind-half = ⏳ По обращению № { $number } прошла половина срока первого ответа. Срок: { $deadline }.
desk-remind-due = ⚠️ Срок первого ответа по обращению № { $number } истёк ({ $deadline }). Ответьте жителю.
desk-escalation = ⚠️ Просрочено обращение № { $number } ({ $topic }, { $agency }): срок первого ответа истёк { $deadline }.
desk-answer-remind-half = ⏳ По обращению № { $number } прошла половина срока ответа. Срок: { $deadline }.
desk-answer-remind-due = ⚠️ Срок ответа по обращению № { $number } истёк ({ $deadline }). Ответьте жителю по существу.
desk-answer-escalation = ⚠️ Просрочен ответ по обращению № { $number } ({ $topic }, { $agency }): срок истёк { $deadline }.
