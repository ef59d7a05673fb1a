# The centre's desk: moderation before the agency, answer review, staff tools.
# String arguments are HTML-escaped by handlers.texts.

## Moderation (admin chat)

moderation-card-title = 🛂 <b>Новое обращение на проверке</b>: передайте его в ведомство или отклоните.
moderation-button-pass = Передать: { $agency }
moderation-button-topic = Сменить тему
moderation-button-agency = Другое ведомство
moderation-button-decline = Отклонить
moderation-choose-topic = Новая тема обращения № { $number } (после выбора оно будет передано в ведомство этой темы):
moderation-choose-agency = В какое ведомство передать обращение № { $number }? Сначала — обслуживающие его тему и муниципалитет.
moderation-choose-reason = Причина отказа по обращению № { $number } (её получит житель):
moderation-card-passed = <b>Передано в { $agency }</b> ({ $actor })
moderation-card-declined = <b>Отклонено</b>: { $reason } ({ $actor })
moderation-done-topic = Тема обращения № { $number } изменена, оно передано в { $agency }.
moderation-done-agency = Обращение № { $number } передано в { $agency }.
moderation-done-declined = Обращение № { $number } отклонено: { $reason }.
moderation-toast-passed = Передано в ведомство
moderation-toast-declined = Отклонено
moderation-refuse-done = Обращение № { $number } уже проверено: сейчас оно в статусе «{ $status }».
moderation-refuse-no-agency = Ни одно ведомство не обслуживает эту тему здесь: выберите ведомство кнопкой «Другое ведомство».
moderation-remind-half = ⏳ Обращение № { $number } ждёт проверки: прошла половина срока. Срок: { $deadline }.
moderation-remind-due = ⚠️ Срок проверки обращения № { $number } истёк ({ $deadline }). Передайте его в ведомство или отклоните.

## Moderation (resident)

moderation-notice-passed = Ваше обращение № { $number } проверено и передано в ведомство: { $agency }. Ведомство сообщит, что взяло его в работу, до { $first }, а ответит по существу до { $answer }.
moderation-notice-declined = Ваше обращение № { $number } не принято к рассмотрению. Причина: { $reason }.

desk-event-moderation = поступило на проверку в центр управления регионом
desk-event-declined = отклонено при проверке
desk-event-topic_changed = тема изменена при проверке
desk-event-moderation_half = напоминание о проверке: прошла половина срока
desk-event-moderation_due = напоминание о проверке: срок истёк

resident-submitted-moderation =
    Спасибо! Ваше обращение <b>№ { $number }</b> принято. Центр управления регионом проверит его и передаст в ответственное ведомство — мы сообщим, когда это случится. Ответ придёт сюда, в этот чат. Следить за статусом можно командой /my.

## Answer review (admin chat and agency chat)

review-card =
    🔎 <b>Ответ по обращению № { $number } на проверке</b>
    { $agency }, { $actor }:
    { $text }
review-attachments = Вложения ответа по обращению № { $number }
review-button-approve = Одобрить
review-button-return = Вернуть на доработку
review-held = Ответ по обращению № { $number } отправлен на проверку в центр управления регионом: житель получит его после одобрения.
review-prompt-return = Что доработать в ответе по обращению № { $number }? Напишите ответом на это сообщение: комментарий получит ведомство.
review-refuse-done = Ответ по обращению № { $number } уже проверен: обращение в статусе «{ $status }».
review-refuse-nothing = Ответа на проверке нет.
review-refuse-empty-comment = Без комментария ответ не возвращается: напишите, что доработать.
review-card-approved = ✅ Ответ одобрен и отправлен жителю ({ $actor }).
review-card-returned = ↩️ Ответ возвращён на доработку ({ $actor }): { $comment }
review-toast-approved = Одобрено, ответ отправлен жителю
review-returned-to-agency =
    <b>Ответ по обращению № { $number } возвращён на доработку центром управления регионом.</b>
    Комментарий: { $comment }
    Ответьте на это сообщение, чтобы отправить жителю новый ответ.
review-done-returned = Ответ по обращению № { $number } возвращён в ведомство с комментарием.

desk-event-answer_review = ответ отправлен на проверку
desk-event-solution_review = ответ о решении отправлен на проверку
desk-event-answer_approved = ответ одобрен центром управления регионом
desk-event-answer_returned = ответ возвращён на доработку

## Staff tools

note-saved = 📝 Заметка к обращению № { $number } сохранена в истории. Житель её не увидит.
note-empty = Пустая заметка не сохранена: напишите текст после «!».
note-prompt = 📝 Заметка к обращению № { $number }: ответьте на это сообщение. Она останется в истории, житель её не увидит.

assign-choose = Кому назначить обращение № { $number }?
assign-button-clear = Снять назначение
assign-nobody = Назначить некого: в списке появляются сотрудники, которые нажимали кнопки или писали боту в этом чате.
assign-done = 👤 Обращение № { $number } назначено: { $name } (назначил(а) { $actor }).
assign-done-clear = Назначение по обращению № { $number } снято ({ $actor }).
assign-toast = Назначено
assign-toast-clear = Назначение снято
assign-toast-none = Обращение никому не назначено
assign-open-title = <b>Назначены вам: { $count }</b>
assign-open-empty = Открытых обращений, назначенных вам, нет.
find-usage = Поиск по обращениям вашего ведомства: /find 2026-000123, /find +79001234567 или /find слова из адреса или описания
find-none = По запросу «{ $query }» обращений не найдено.
find-title = <b>Найдено обращений: { $count }</b>
find-line = № { $number } · { $topic } · { $status } · { $received } · { $address }
find-no-address = адрес не указан
find-more = …и ещё { $count }: уточните запрос.
desk-event-note = заметка сотрудника
template-offer = Или выберите готовый ответ по обращению № { $number } (номер и адрес подставятся):
template-toast-sent = Ответ по шаблону отправлен
